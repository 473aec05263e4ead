"""EU digital battery passports (Regulation (EU) 2023/1542, Art. 77, Annex XIII)."""
