"""The bottom layer: errors, money, text keys, tax ids, file and spreadsheet helpers. Pure: no
database, no shop state, no Typer or Rich."""
