// Written next; see pg.h.
