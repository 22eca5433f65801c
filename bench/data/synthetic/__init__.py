"""Synthetic NTU RGB+D: motion primitives and per-class programs, the performer's skeleton, the
small generator (`generator`), the full-size one (`full`), and the skeleton -> RGB renderer."""
