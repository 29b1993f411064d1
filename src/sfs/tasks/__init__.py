"""Background work that `sfs serve` runs on a schedule, once across all instances."""
