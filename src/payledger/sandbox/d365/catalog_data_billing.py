"""Free-text invoice entities (``FreeTextInvoiceHeaders`` / ``FreeTextInvoiceLines``).

The set names are CONFIRMED (fact sheet 4.4, [META]); their property lists are not in the fact
sheet. UNCERTAIN, chosen here from the header fields integrations send (``CustomerAccount``,
``InvoiceAccount``, ``InvoiceDate``, ``DueDate``, ``CurrencyCode``, ``CustomerReference``,
``IsPosted``, ``InvoiceId``...): the header key ``dataAreaId, InvoiceIdentifier`` (a number
sequence), and lines keyed ``dataAreaId, InvoiceIdentifier, LineNumber`` (F&O links lines to
their header through the header's ``RecId``, ``ParentRecId``). ``ItemNumber`` on a line stands
for an item-based free-text line (F&O books free-text lines to a main account).
"""

BILLING_ENTITY_PROPERTIES: dict[str, tuple[str, str]] = {
    "FreeTextInvoiceHeaders": (
        "dataAreaId InvoiceIdentifier",
        """
        dataAreaId:str! InvoiceIdentifier:str! CustomerAccount:str InvoiceAccount:str
        InvoiceDate:dto! DocumentDate:dto! DueDate:dto! CurrencyCode:str CustomerReference:str
        CustomerRequisition:str InvoiceId:str IsPosted:enum:NoYes MethodOfPayment:str
        TermsOfPayment:str PostingProfile:str DefaultDimensionDisplayValue:str InvoiceName:str
        LanguageId:str SalesTaxGroupId:str BillingClassification:str
        """,
    ),
    "FreeTextInvoiceLines": (
        "dataAreaId InvoiceIdentifier LineNumber",
        """
        dataAreaId:str! InvoiceIdentifier:str! LineNumber:dec! Description:str
        MainAccountDisplayValue:str ItemNumber:str Quantity:dec! UnitPrice:dec!
        TransactionCurrencyAmount:dec! CurrencyCode:str DefaultDimensionDisplayValue:str
        SalesTaxGroupId:str SalesTaxItemGroupId:str BillingCode:str
        """,
    ),
}
