"""What the customer sees: the card code they carry and its QR images (slips, statements and the kiosk
build on these). A library: no Typer, no Rich."""
