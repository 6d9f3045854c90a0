"""Entity properties and enum members of a real F&O ``$metadata`` (fact sheet appendices A, B).

Each entity is ``(key properties, property list)``; a property is ``Name:type`` where type is
``str``, ``dec`` (Edm.Decimal), ``dto`` (Edm.DateTimeOffset), ``int32``, ``int64``, ``guid`` or
``enum <EnumName>``, and a trailing ``!`` means ``Nullable="false"``.

Journal, payment and business-event entities and all enums live here; the customer and sales
entities are in :mod:`catalog_data_sales`. Entity order is kept: it is the ``$metadata`` order.
"""

from payledger.sandbox.d365.catalog_data_billing import BILLING_ENTITY_PROPERTIES
from payledger.sandbox.d365.catalog_data_collections import COLLECTIONS_ENTITY_PROPERTIES
from payledger.sandbox.d365.catalog_data_sales import SALES_ENTITY_PROPERTIES

ENTITY_PROPERTIES: dict[str, tuple[str, str]] = {
    "CustomerPaymentJournalHeaders": (
        "dataAreaId JournalBatchNumber",
        """
        dataAreaId:str! JournalBatchNumber:str! JournalName:str OverrideSalesTax:enum:NoYes
        Description:str IsPosted:enum:NoYes
        """,
    ),
    "CustomerPaymentJournalLines": (
        "dataAreaId JournalBatchNumber LineNumber",
        """
        dataAreaId:str! JournalBatchNumber:str! LineNumber:dec!
        UseSalesTaxDirectionFromMainAccount:enum:NoYes MarkedInvoice:str Voucher:str
        DepositNumber:str ItemWithholdingTaxGroup:str OffsetAccountType:enum:LedgerJournalAcType
        PostdatedCheckCashierDisplayValue:str PostdatedCheckMaturityDate:dto!
        SettleVoucher:enum:SettlementType TransactionDate:dto!
        NACHAIATOFACScreeningIndicator:enum:CustVendGatewayOperatorOfacIndicatorUs
        BankTransactionType:str PaymentReference:str CustomerName:str ChineseVoucherType:str
        NACHAIATForeignExchangeIndicator:enum:CustVendForeignExchIndicatorUs
        PostdatedCheckSalespersonDisplayValue:str
        NACHAIATForeignExchangeReferenceIndicator:enum:CustVendForeignExchRefIndicatorUs
        DebitAmount:dec! TaxItemGroup:str
        NACHAIATOFACSecondaryScreeningIndicator:enum:CustVendSecondaryOfacIndicatorUs
        ThirdPartyBankAccountId:str TransactionText:str PostdatedCheckNumber:str
        OffsetAccountDisplayValue:str AccountDisplayValue:str
        DefaultDimensionsForAccountDisplayValue:str PostdatedCheckOriginalCheckNumber:str
        PaymentMethodName:str CentralBankImportDate:dto!
        NACHAIATReceivingDFIQualifier:enum:CustVendOriginatingDfiQualifierUs
        OffsetTransactionText:str MarkedInvoiceCompany:str UseABankDepositSlip:enum:NoYes
        PaymentSpecification:str OffsetFinTagDisplayValue:str
        PostdatedCheckIsReplacementCheck:enum:NoYes
        NACHAIATOriginatingDFIQualifier:enum:CustVendOriginatingDfiQualifierUs
        AccountType:enum:LedgerJournalAcType TaxGroup:str ExchangeRate:dec!
        ReportingCurrencyExchRate:dec! FinTagDisplayValue:str PaymentId:str
        CalculateWithholdingTax:enum:NoYes PostingProfile:str PostdatedCheckReasonForStop:str
        CreditAmount:dec! OverrideSalesTax:enum:NoYes OffsetCompany:str IsPrepayment:enum:NoYes
        NACHAIATForeignExchangeReference:str DefaultDimensionsForOffsetAccountDisplayValue:str
        ReportingCurrencyExchRateSecondary:dec! CurrencyCode:str SecondaryExchangeRate:dec!
        PostdatedCheckReceivedDate:dto! Company:str PostdatedCheckBankBranch:str
        CentralBankPurposeCode:str PostdatedCheckReplacementComments:str
        PostdatedCheckStopPayment:enum:NoYes ChineseVoucher:str PostdatedCheckBankName:str
        CentralBankPurposeText:str PaymentNotes:str
        """,
    ),
    "PaymentJournalLineSettledInvoices": (
        "JournalLineCompany JournalBatchNumber JournalLineNumber InvoiceNumber InvoiceCompany"
        " InvoiceDueDate",
        """
        JournalLineCompany:str! JournalBatchNumber:str! JournalLineNumber:dec!
        InvoiceNumber:str! InvoiceCompany:str! InvoiceDueDate:dto!
        InvoiceToPaymentCrossRate:dec! CashDiscountToTakeInInvoiceCurrency:dec!
        SettlementAmountInInvoiceCurrency:dec! invoiceAccount:str AccountDisplayValue:str
        """,
    ),
    "CustomerPaymentJournalFees": (
        "dataAreaId SourceJournalBatchNumber SourceJournalLineNumber PaymentFeeId",
        """
        dataAreaId:str! SourceJournalBatchNumber:str! SourceJournalLineNumber:dec!
        PaymentFeeId:str! SalesTaxGroup:str CurrencyCode:str ItemSalesTaxGroup:str Amount:dec!
        ItemWithholdingTaxGroupCode:str SalesTaxDirection:enum:VendPaymFeeTaxDirectionJp
        IsWithholdingCalculationEnabled:enum:NoYes AccountType:enum:LedgerJournalAcType
        AccountDisplayValue:str DefaultDimensionDisplayValue:str
        """,
    ),
    "LedgerJournalHeaders": (
        "dataAreaId JournalBatchNumber",
        """
        dataAreaId:str! JournalBatchNumber:str! AccountingCurrency:str JournalName:str
        IntegrationKey:str Description:str PostingLayer:enum:CurrentOperationsTax
        IsPosted:enum:NoYes JournalTotalCredit:dec! JournalTotalDebit:dec!
        """,
    ),
    "LedgerJournalLines": (
        "dataAreaId JournalBatchNumber LineNumber",
        """
        dataAreaId:str! JournalBatchNumber:str! LineNumber:dec! ReverseEntry:enum:NoYes
        ItemSalesTaxGroup:str CashDiscountDate:dto! Voucher:str Text:str
        OffsetAccountType:enum:LedgerJournalAcType IsWithholdingCalculationEnabled:enum:NoYes
        ReverseDate:dto! TransDate:dto! DefaultDimensionDisplayValue:str PaymentReference:str
        Document:str CashDiscountAmount:dec! ExchRate:dec! ChineseVoucherType:str
        DebitAmount:dec! SalesTaxCode:str DocumentDate:dto! OffsetAccountDisplayValue:str
        AccountDisplayValue:str CashDiscount:str OffsetDefaultDimensionDisplayValue:str
        OffsetFinTagDisplayValue:str SalesTaxGroup:str AccountType:enum:LedgerJournalAcType
        Invoice:str DueDate:dto! ReportingCurrencyExchRate:dec! FinTagDisplayValue:str
        PaymentMethod:str PaymentId:str PostingProfile:str ExchRateSecond:dec! CreditAmount:dec!
        OverrideSalesTax:enum:NoYes OffsetCompany:str Quantity:dec!
        ItemWithholdingTaxGroupCode:str TaxExemptNumber:str
        ReportingCurrencyExchRateSecondary:dec! CurrencyCode:str Company:str ChineseVoucher:str
        DiscountPercentage:dec! OffsetText:str
        """,
    ),
    # Fact sheet 4.7 names this exposure of the customer transactions (CustTrans) and some of
    # its fields but calls it UNCERTAIN (non-standard/ISV); the rest of the list is ours.
    "CustTransactions": (
        "dataAreaId SysRecId",
        """
        dataAreaId:str! SysRecId:int64! AccountNum:str Invoice:str Voucher:str TransDate:dto!
        TransType:enum:LedgerTransType AmountCur:dec! SettleAmountCur:dec! CurrencyCode:str
        Closed:dto! PaymReference:str DueDate:dto! Txt:str
        """,
    ),
    **SALES_ENTITY_PROPERTIES,
    **BILLING_ENTITY_PROPERTIES,
    **COLLECTIONS_ENTITY_PROPERTIES,
    "CustomerPaymentMethods": (
        "dataAreaId Name",
        """
        dataAreaId:str! Name:str! BillOfExchangeDraftType:enum:TypeOfDraft ERSolution:str
        UseGERConfiguration:enum:NoYes PaymentJournalName:str ExportFormatClassName:str
        ReturnLayoutGroupId:str BridgingPostingEnabled:enum:NoYes
        PaymentStatus:enum:CustVendPaymStatus SumByPeriod:enum:PaymSumBy
        SATPaymentType:enum:PaymentTypeMx AttributeBelgianStructuredPaymentIdEnabled:enum:NoYes
        LastFileNumberToday:int32! ERFormatMapping:str BankTransactionType:str
        ERModelMappingTable:int64! ValidateTransactionTypeIsBank:enum:NoYes
        DescriptionPrimaryMethodPayment:str ValidateCheckNumberIsMandatory:enum:NoYes
        ExportLayoutGroupId:str DiscountGracePeriodDays:int32! Description:str
        ImportFormatClassName:str PaymentType:enum:CustPaymentType
        AccountType:enum:LedgerJournalAcType AttributePaymentAccountEnabled:enum:NoYes
        LastFileNumber:int32! ExportBillOfExchangeDuringInvoicePosting:enum:NoYes
        DirectDebit:enum:NoYes BridgingPostingAccountDisplayValue:str
        DimensionControl:enum:NoYes AttributePaymentIdEnabled:enum:NoYes
        AttributeThirdPartyBankEnabled:enum:NoYes ReturnFormatClassName:str
        PaymentAccountDisplayValue:str ValidateDepositSlipIsMandatory:enum:NoYes
        IsSEPA:enum:NoYes SplitPayment:enum:NoYes
        CreateAndDrawBillOfExchangeDuringInvoicePosting:enum:NoYes ERProvider:str
        RemittanceFormatClassName:str EnablePostdatedCheckClearingPosting:enum:NoYes
        ValidatePaymentReferenceIsMandatory:enum:NoYes PrimaryMethodPayment:enum:PrimaryMethodBr
        LastFileDate:dto! ValidateOffsetTransactionTypeIsBank:enum:NoYes
        PostingProfileBillsRemitCollection:str PostingProfileBillsRemitDiscount:str
        """,
    ),
    "BusinessEventsCatalogs": (
        "BusinessEventId",
        """
        BusinessEventId:str! Description:str DescParam2:str NameParam1:str NameParam2:str
        DescParam1:str Module:enum:ModuleAxapta Name:str Contract:str
        """,
    ),
    "BusinessEventsEndpoints": (
        "Name",
        """
        Name:str! ServiceBusTopicSKU:enum:BusinessEventsServiceBusSku EventHubName:str
        Description:str AzureAppId:str ServiceBusQueueSKU:enum:BusinessEventsServiceBusSku
        EventHubSKU:enum:BusinessEventsEventHubSku KeyVaultSecretName:str
        DecryptedAzureAppSecret:str KeyVaultDnsName:str EventGridEndpointURL:str
        ServiceBusTopicName:str InstanceRelationType:int64!
        ProducerConsumerType:enum:BusinessEventsProducerConsumerType
        Type:enum:BusinessEventsEndpointType AzureBlobContainerName:str ServiceBusQueueName:str
        """,
    ),
    "CallCenterSalesOrderCustomerPayments": (
        "dataAreaId LineNumber SalesOrderId",
        """
        dataAreaId:str! LineNumber:dec! SalesOrderId:str! OriginalRefundSalesOrderId:str
        IsPlanRefund:enum:NoYes RetailChannelId:str UniqueCreditCardId:str RetailGiftCardId:str
        CurrencyCode:str PercentAmount:dec! IsCreditCardProcessed:enum:NoYes CheckNumber:str
        IsCheckAuthorized:enum:NoYes CustomerAccount:str OriginalRefundLineNumber:dec!
        AuthorizationRetryNumber:int32! IsPrepay:enum:NoYes Amount:dec!
        IsOnAccountAuthorized:enum:NoYes PostedAmount:dec! Status:enum:McrCustPaymStatus
        RetailStoreTenderTypeId:str CustomerPaymentType:enum:McrCustPaymType
        RetailStoreCardTypeId:str PaymentSchedId:str
        """,
    ),
}

ENUM_MEMBERS: dict[str, str] = {
    "Abc": "None A B C",
    "BundleLineStatus": "None Backorder Delivered Invoiced Canceled",
    "BundleLineType": "None BundleParent NestedBundleParent BundleComponent",
    "BusinessEventsEndpointType": (
        "AzureServiceBusQueue AzureServiceBusTopic AzureEventGrid AzureEventHub Flow Http "
        "AzureBlobStorage CDS"
    ),
    "BusinessEventsEventHubSku": "Standard Dedicated",
    "BusinessEventsProducerConsumerType": "BusinessEvents DataFeeds",
    "BusinessEventsServiceBusSku": "Standard Premium",
    "CompanyTypeMx": "Blank LegalEntity LegalPerson ForeignCompany",
    "CreditCardAddressVerification": "None No Yes",
    "CreditCardAddressVerificationLevel": (
        "Accept AccountHolderName BillingPostalCode BillingAddress"
    ),
    "CreditCardCvc": "None No Yes",
    "CurrentOperationsTax": (
        "Current Operations Tax WarehouseCur_RU CustomLayer1 CustomLayer2 CustomLayer3 "
        "CustomLayer4 CustomLayer5 CustomLayer6 CustomLayer7 None"
    ),
    "CustAccountStatement": "Always Quarter Biannually Yearly Never",
    "CustCollectionLetterCode": (
        "None CollectionLetter1 CollectionLetter2 CollectionLetter3 CollectionLetter4 "
        "Collection All CollectionPerCust"
    ),
    "CustPaymentType": "Other ElectronicPayment Check BillOfExchange CreditCard",
    "CustVendForeignExchIndicatorUs": "None FV VF FF",
    "CustVendForeignExchRefIndicatorUs": "One Two Three",
    "CustVendGatewayOperatorOfacIndicatorUs": "Zero One",
    "CustVendOriginatingDfiQualifierUs": "One Two Three",
    "CustVendPaymStatus": ("None Sent Recieved Confirmed Rejected Delete SentDelete Deleted"),
    "CustVendSecondaryOfacIndicatorUs": "Zero One",
    "CustVendorBlocked": "No Invoice All Payment Requisition Never PurchOrder",
    "CustWhtContributionTypeBr": (
        "Other FederalAgencyAutarchyOrFoundation OtherFederalAdministrationEntity "
        "PrivateCompany Cooperative MachineOrVehicleManufacturer"
    ),
    "CustomerTypeIn": "None GovtCompanyOrOtherAgencies ECommerceOperator",
    "DirPersonMaritalStatus": "None Single Married Divorced Widowhood",
    "DocumentTypeIt": ("None PaymentOrder Contract Agreement ManagementSystem OriginalInvoice"),
    "EfDocPresenceTypeBr": "DoesNotApply InPerson Internet Telesales InPersonOut Others",
    "FederalNonFederalIndicatorCode": "None Federal NonFederal NonFederalException",
    "Gender": "Unknown Male Female NonSpecific",
    "InvoiceOrderAccount": "InvoiceAccount OrderAccount",
    "InvoiceTypeMy": "Invoice GST SelfBilled ServiceInvoice",
    "ItemReservation": "None Automatic Explosion",
    "LedgerJournalAcType": (
        "Ledger Cust Vend Project FixedAssets Bank FixedAssets_RU Employee_RU RDeferrals RCash"
    ),
    "Listcode": (
        "IncludeNot EUTrade ProductionOnToll TriangularEUTrade TriangularProductionOnToll "
        "PropertyMoving_CZ TriangularIntermediateRole_HU DEL_EUService "
        "PurchasedOnBehalf_LV"
    ),
    "McrCustPaymStatus": "NotSubmitted Authorized Declined Posted Paid",
    "McrCustPaymType": ("None OnAccount Cash Check CreditCard RefundCheck GiftCard LoyaltyCard"),
    "McrGiftCardType": "Email Physical",
    "McrsoAllocPriority": (
        "AllocationPriority1 AllocationPriority2 AllocationPriority3 AllocationPriority4 "
        "AllocationPriority5 AllocationPriority6 AllocationPriority7 AllocationPriority8 "
        "AllocationPriority9 AllocationPriority10"
    ),
    "ModuleAxapta": (
        "Ledger Bank SalesOrder Customer PurchaseOrder Vendor Inventory BOM Route "
        "WorkCenter Production MasterPlanning HumanResource Project Location General "
        "Costing Expense CRM Activities Contacts BusinessRelations Opportunities Leads "
        "Campaigns Basic TimeAndAttendance Budget FixedAssets RetailTerminal RCash "
        "FleetManagement TAM ProcurementAndSourcing NotApplicable Obsolete "
        "SalesAndMarketing SystemAdministr"
    ),
    "MonthsOfYear": (
        "None January February March April May June July August September October November December"
    ),
    "MpsFullRunCtpStatus": "Ready NotReady",
    "NatureOfAssesseeIn": "Company HUF Firm Individual AOP BOI LocalAuthority Others",
    "NoYes": "No Yes",
    "LedgerTransType": "None Sales Payment",
    "PanStatusIn": "NotAvailable Received Applied Invalid",
    "PaymSumBy": "Invoice TransDate Week Total",
    "PaymentStub": (
        "None FIK BBS ESR_blue_PTT ESR_red_bank FIK762 ESR_orange BelSMS101 BelSMS102 "
        "Finnish FIK751 FIK752 QRBill"
    ),
    "PaymentTypeMx": (
        "Cash Check Transfer CreditCard ElectronicWallet ElectronicMoney DigitalCards "
        "FoodVoucher Goods Service ThirdParty DebtPayment Subrogation Consignment "
        "DebtCancellation Cancellation Compensation Novation Confusion DebtRelief "
        "PrescriptionOrExpiration SatisfactionOfCreditor DebitCard ServiceCard "
        "AdvanceApplication Blank Other IntermediaryPayment"
    ),
    "PrimaryMethodBr": "Blank Duplicate Check Promissory Receipt Other",
    "RetailFulfillmentLineStatus": (
        "Unknown Pending Accepted Picking PartiallyPicked Picked PartiallyPacked Packed "
        "PartiallyInvoiced Invoiced Rejected"
    ),
    "RetailReceiptOptionBase": "RetailEx3 Email Both",
    "SalesDeliveryDateControlType": "None SalesLeadTime ATP ATPPlusIssueMargin CTP FullRunCTP",
    "SalesInvoicePostingTypeRu": "Standard GoodsInRoute",
    "SalesOrderProcessingStatus": (
        "Active Confirmed Picked PartiallyDelivered Delivered Invoiced PartiallyInvoiced "
        "Canceled DeliveredPartiallyInvoiced"
    ),
    "SalesSalesOrderCreationMethod": "SalesOrder RetailStatement",
    "SalesStatus": "None Backorder Delivered Invoiced Canceled",
    "SettlementType": "None OpenTransact SelectedTransact",
    "Timezone": (
        "GMTMINUS1200INTERNATIONALDATELINEWEST GMTMINUS1100COORDINATEDUNIVERSALTIME "
        "GMTMINUS1100MIDWAYISLAND_SAMOA GMTMINUS1000HAWAII GMTMINUS0900ALASKA "
        "GMTMINUS0800PACIFICTIME GMTMINUS0800TIJUANA_BAJACALIFORNIA GMTMINUS0700ARIZONA "
        "GMTMINUS0700MOUNTAINTIME GMTMINUS0700CHIHUAHUA_LAPAZ_MAZATLAN "
        "GMTMINUS0600CENTRALAMERICA GMTMINUS0600CENTRALTIME "
        "GMTMINUS0600GUADALAJARA_MEXICOCITY GMTMINUS0600SASKATCHEWAN"
    ),
    "TypeOfDraft": "NoDraft NoAcceptance Acceptance Promissory BankAcceptance",
    "UseCashDisc": "Normal Always Never",
    "VendPaymFeeTaxDirectionJp": "IncomingTax OutgoingTax Automatic",
}
