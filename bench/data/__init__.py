"""Data layer, grouped by what it reads: `ntu/` (raw NTU RGB+D skeletons and videos),
`pose/` (MMAction2/PYSKL annotation pickles, Kinect v1 datasets), `synthetic/` (the generated
NTU-format data and its rendered videos). Beside them the core every source shares: `datasets`
(suite + data reference -> DataBundle), `bundle`, `splits`, `prepared` (the cache), `layouts`,
`body`, `videos`."""
