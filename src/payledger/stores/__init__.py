"""Stores: the SQL repositories that implement the flows' ports (postings, shop orders,
reconciliation, charge records, deliveries, payment and business events) and the tables the
surfaces administer (API clients, console sessions). They read and write; the flows decide."""
