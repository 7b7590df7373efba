"""HTTP apps: the edge (read side, shoppers) and the admin app (write side, tokens)."""
