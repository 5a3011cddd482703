"""When and where the shop is: the clock in the shop's zone, dates typed the local way, and what follows
from a country. No database."""
