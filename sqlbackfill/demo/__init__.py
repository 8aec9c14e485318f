"""The demo project `sqlbackfill init` writes: models, the raw sales CSV and its config."""
