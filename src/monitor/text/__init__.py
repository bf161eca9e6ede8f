"""Text kernels every stage shares: text from outside made safe to keep and to show (`safe`), words as the matcher
sees them and the term syntax analysts write (`terms`), and words reduced to their stems per language (`stemming`),
which parsing, search, events and matching all read."""
