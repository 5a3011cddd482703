"""What the customer sees: card codes, slips, statements."""
