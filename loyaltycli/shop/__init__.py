"""Where and when the shop is: the place in force for one command (country, currency, zone, locale),
the clock, dates typed the local way, and country facts. No database."""
