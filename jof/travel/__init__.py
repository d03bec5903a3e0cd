"""Travel service line (DESIGN §4): travel requests, DSA, tickets, claims, DSA rates."""
