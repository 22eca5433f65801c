"""Raw NTU RGB+D: sample names, class names, the `.skeleton` parser and loader, the RGB videos,
the missing-skeleton lists, and `bench data check`."""
