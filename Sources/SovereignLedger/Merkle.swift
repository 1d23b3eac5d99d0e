enum LedgerPlaceholder {}
