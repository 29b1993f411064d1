"""Background work scheduled once across every instance, through leases in the database."""
