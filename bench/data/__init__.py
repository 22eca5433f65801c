"""Data layer: NTU raw parser, splits, synthetic generator, skeleton arrays."""
