"""selfseed: tumour self-seeding signatures (IL6, CXCL8, MMP1, FSCN1, CXCL1) versus local recurrence."""

__version__ = "0.1.0"
