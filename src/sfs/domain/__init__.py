"""Domain vocabulary: ids, roles, actors, errors. No I/O."""
