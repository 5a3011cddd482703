"""The bottom layer: errors, money, numbers, text keys, tax ids, file and spreadsheet helpers, and the
shop's place in force for one command. Pure: no database, no Typer or Rich."""
