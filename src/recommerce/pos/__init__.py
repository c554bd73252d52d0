"""Point of sale: baskets, tenders, tickets, returns, receipts and till sessions."""
