"""Properties of the customer and sales entities of a real F&O ``$metadata`` (fact sheet
appendix A): customers, sales orders and lines, sales invoices and their lines.

The notation is the one described in :mod:`catalog_data`, which merges these entities into
``ENTITY_PROPERTIES``.
"""

SALES_ENTITY_PROPERTIES: dict[str, tuple[str, str]] = {
    "CustomersV3": (
        "dataAreaId CustomerAccount",
        """
        dataAreaId:str! CustomerAccount:str! AddressBrazilianCNPJOrCPF:str PartyType:str
        PrimaryContactFaxExtension:str IsFuelSurchargeApplied:enum:NoYes SalesTaxGroup:str
        AddressCountryRegionId:str ContactPersonId:str CustomerPaymentFineCode:str
        BirthCountyCode:str InvoiceAddress:enum:InvoiceOrderAccount
        PackingMaterialFeeLicenseNumber:str TransactionPresenceType:enum:EfDocPresenceTypeBr
        PrimaryContactTwitter:str PrimaryContactEmailIsIM:enum:NoYes InvoiceAddressCity:str
        IsFinalUser:enum:NoYes PrimaryContactEmail:str DeliveryAddressCounty:str
        HasSuframaDiscountPISandCOFINS:enum:NoYes InvoiceAddressStreet:str CURPNumber:str
        PrimaryContactLinkedInDescription:str DeliveryAddressCountryRegionId:str
        ItemCustomerGroupId:str PersonProfessionalTitle:str SalesSegmentId:str
        IsServiceDeliveryAddressBased:enum:NoYes PrimaryContactTelexDescription:str
        InvoiceAddressDistrictName:str InvoiceAddressTimeZone:enum:Timezone
        SalesAccountNumber:str PrimaryContactFacebookDescription:str
        PrimaryContactPhoneIsMobile:enum:NoYes PrimaryContactFaxRecordId:int64! TCSGroup:str
        DeliveryAddressLocationId:str InterCompanyAutoCreateOrders:enum:NoYes AddressZipCode:str
        LineOfBusinessId:str GiroTypeProjInvoice:enum:PaymentStub OrganizationPhoneticName:str
        CreditCardCVC:enum:CreditCardCvc DeliveryAddressCountryRegionISOCode:str
        DeliveryAddressValidFrom:dto! GiroTypeAccountStatement:enum:PaymentStub
        CalculateWithholdingTax:enum:NoYes ElectronicInvoiceEAN:str DeliveryFreightZone:str
        PrimaryContactFax:str TaxExemptNumber:str DeliveryAddressDescription:str
        DeliveryAddressLongitude:dec! BirthPlace:str AddressCity:str PersonInitials:str
        DefaultECommerceOperator:str CentralBankPurposeCode:str FullPrimaryAddress:str
        GiroTypeCollectionletter:enum:PaymentStub OrderEntryDeadline:str ForeignerId:str
        WarehouseIsASNGenerated:enum:NoYes AddressLongitude:dec!
        CustomerType:enum:CustomerTypeIn PrimaryContactLinkedIn:str PrimaryContactURL:str
        IsFreightAccrued:enum:NoYes PartyState:str InvoiceAccount:str PartyNumber:str
        CentralBankPurposeNotes:str CollectionsContactPersonId:str AddressBuildingComplement:str
        PersonMaritalStatus:enum:DirPersonMaritalStatus AddressLocationId:str
        PaymentSchedule:str PrimaryContactTwitterPurpose:str GiroType:enum:PaymentStub
        InvoiceAddressDescription:str AddressDistrictName:str DeliveryTerms:str
        NumberSequenceGroup:str PersonChildrenNames:str PaymentMethod:str
        ForeignResident:enum:NoYes DeliveryMode:str PersonProfessionalSuffix:str
        OnHoldStatus:enum:CustVendorBlocked AccountStatement:enum:CustAccountStatement
        WarehouseId:str DestinationCode:str IRS1099CIndicator:enum:NoYes
        EInvoiceRegister:enum:NoYes FrenchSiret:str PaymentDay:str BrazilianNIT:str
        FederalIndicator:enum:FederalNonFederalIndicatorCode EmployeeResponsibleNumber:str
        PersonAnniversaryYear:int32! DefaultInventoryStatusId:str
        PrimaryContactEmailDescription:str AddressTimeZone:enum:Timezone PrimaryContactPhone:str
        PrimaryContactPhoneRecordId:int64! DeliveryAddressCity:str InvoiceAddressCounty:str
        PANReferenceNumber:str DeliveryAddressStreet:str SalesCurrencyCode:str
        Priority:enum:McrsoAllocPriority IsSalesTaxIncludedInPrices:enum:NoYes
        BrazilianCNPJOrCPF:str PaymentFactoringAccount:str PANNumber:str
        PrimaryContactTwitterDescription:str PersonFirstName:str BrazilianCCM:str
        ReceiptEmail:str TDSGroup:str MultiLineDiscountCode:str PersonAnniversaryDay:int32!
        DefaultDimensionDisplayValue:str SupplementaryItemGroupId:str
        IsWithholdingTaxCalculated:enum:NoYes PaymentSpecification:str AddressRecordId:int64!
        AddressBooks:str PrimaryContactEmailPurpose:str FulfillmentPolicyName:str
        SalesDistrict:str ConsolidationDay:int32! IsExpressBillOfLadingAccepted:enum:NoYes
        CreditCardAddressVerification:enum:CreditCardAddressVerification
        InvoiceAddressBuildingComplement:str AddressState:str AllowOnAccount:enum:NoYes
        IsExcludedFromCollectionFeeCalculation:enum:NoYes
        CustomerPaymentFinancialInterestCode:str IsTransactionPostedAsShipment:enum:NoYes
        IsExternallyMaintained:enum:NoYes CreditLimitIsMandatory:enum:NoYes
        PaymentTermsBaseDays:int32! FiscalCode:str KnownAs:str PrimaryContactTelex:str
        PaymentBankAccount:str BrazilianIE:str PreferentialCustomer:enum:NoYes
        PrimaryContactEmailRecordId:int64! ReceiptOption:enum:RetailReceiptOptionBase
        AddressBrazilianIE:str PersonAnniversaryMonth:enum:MonthsOfYear
        PrimaryContactPhoneExtension:str InvoiceAddressStreetNumber:str
        PrimaryContactPhonePurpose:str ExportSale:enum:NoYes OrganizationNumber:str
        InvoicePostingType:enum:SalesInvoicePostingTypeRu
        CreditCardAddressVerificationIsAuthorizationVoidedOnFailure:enum:NoYes
        InvoiceAddressState:str ReceiptCalendar:str DeliveryAddressState:str
        StateInscription:str PersonLastNamePrefix:str SalesReturnTaxGroup:str
        PrimaryContactURLDescription:str
        CustomerWithholdingContributionType:enum:CustWhtContributionTypeBr
        IsElectronicInvoice:enum:NoYes FederalAgencyLocationCode:str
        GiroTypeFreeTextInvoice:enum:PaymentStub DeliveryAddressValidTo:dto!
        PersonPhoneticMiddleName:str OrganizationABCCode:enum:Abc BrazilianCNAE:str
        WithholdingTaxGroupCode:str NAFCode:str AddressLatitude:dec! TotalDiscountCode:str
        AddressLocationRoles:str PaymentCashDiscount:str DeliveryAddressDistrictName:str
        CollectionLetterCode:enum:CustCollectionLetterCode EInvoiceAttachment:enum:NoYes
        MerchantID:str CreditRating:str PrimaryContactFacebook:str
        DeliveryAddressBuildingComplement:str DeliveryAddressStreetNumber:str
        LineDiscountCode:str InvoiceAddressLongitude:dec! PartyCountry:str
        InvoiceAddressLatitude:dec! IsInSuframaRegion:enum:NoYes
        IsIncomingFiscalDocumentGenerated:enum:NoYes SalesMemo:str ReliefGroupId:str
        IsExcludedFromInterestChargeCalculation:enum:NoYes StatisticsGroupId:str
        SalesOrderPoolId:str OrganizationName:str IsOrderNumberReferenceUsed:enum:NoYes
        CustClassificationId:str AddressValidTo:dto! FederalComments:str
        PersonGender:enum:Gender PaymentTerms:str PrimaryContactPhoneDescription:str
        AddressPostbox:str SalesSubsegmentId:str CustomerRebateGroupId:str
        WarehouseOutboundShipmentProcessingPolicyName:str AddressCounty:str
        PrimaryContactURLRecordId:int64! IsICMSContributor:enum:NoYes InvoiceAddressValidTo:dto!
        DeliveryAddressTimeZone:enum:Timezone InvoiceAddressValidFrom:dto! CreditLimit:dec!
        CreditCardAddressVerificationLevel:enum:CreditCardAddressVerificationLevel
        WarehouseIsEntireShipmentFilled:enum:NoYes PackingDutyLicense:str
        NationalRegistryNumber:str SiteId:str IsAllowCreateIndirectOrderLines:enum:NoYes
        InvoiceAddressCountryRegionISOCode:str PrimaryContactURLPurpose:str ChargesGroupId:str
        PanStatus:enum:PanStatusIn CommissionSalesGroupId:str NameAlias:str
        PrimaryContactFaxPurpose:str AddressStreetNumber:str PersonLastName:str
        PaymentIdType:str VendorAccount:str AddressCountryRegionISOCode:str
        ResidenceForeignCountryRegionId:str RFCNumber:str PersonHobbies:str
        ElectronicLocationId:str InvoiceAddressZipCode:str PrimaryContactLinkedInPurpose:str
        IsOneTimeCustomer:enum:NoYes ForeignCustomer:enum:NoYes CustomerTMAGroupId:str
        AddressValidFrom:dto! OrganizationNumberOfEmployees:int32!
        CompanyType:enum:CompanyTypeMx CustomerGroupId:str GiroTypeInterestNote:enum:PaymentStub
        DeliveryAddressZipCode:str DeliveryReason:str TaxRegistrationId:str
        PaymentUseCashDiscount:enum:UseCashDisc DiscountPriceGroupId:str AddressDescription:str
        SuframaNumber:str IdentificationNumber:str PersonPhoneticFirstName:str
        AuthorityOffice:str PrimaryContactTelexPurpose:str DeliveryAddressLatitude:dec!
        InvoiceAddressCountryRegionId:str PrimaryContactFacebookPurpose:str CompanyChain:str
        OverrideSalesTax:enum:NoYes BrazilianINSSCEI:str CommissionCustomerGroupId:str
        PrimaryContactFaxDescription:str NatureOfAssessee:enum:NatureOfAssesseeIn
        WriteoffReason:str PersonMiddleName:str InvoiceAddressLocationId:str LanguageId:str
        PersonPhoneticLastName:str AddressStreet:str IsPurchRequestUsed:enum:NoYes
        IsPublicSector_IT:enum:NoYes SATRegistrationName_MX:str TaxRegimeCode_MX:str
        CFDITemporaryExport_MX:enum:NoYes IsSimplifiedPrimaryAddress:enum:NoYes
        IsSimplifiedDeliveryAddress:enum:NoYes IsSimplifiedInvoiceAddress:enum:NoYes
        CredManEligibleCreditLimitCurrency:str CredManCustCreditMaxAlt:dec!
        CredManStatusReasonId:str CredManEligibleCreditMax:dec!
        CredManCustUnlimitedCredit:enum:NoYes CredManEligibleCreditLimitDate:dto!
        CredManWithAgency:enum:NoYes CredManCreditLimitDate:dto! CredManNextSchedReviewDate:dto!
        CredManLastReviewDate:dto! CredManCustomerSince:dto! CredManTitleHeld:enum:NoYes
        CredManExclude:enum:NoYes CredManBusinessStarted:dto! CredManNotes:str
        CredManCollectionGroupId:str CredManGroupId:str CredManAccountStatusId:str
        CredManCreditLimitExpiryDate:dto!
        """,
    ),
    "SalesOrderHeadersV2": (
        "dataAreaId SalesOrderNumber",
        """
        dataAreaId:str! SalesOrderNumber:str! OrderTotalChargesAmount:dec!
        FiscalDocumentOperationTypeId:str OrderTakerPersonnelNumber:str
        RequestedReceiptDate:dto! EInvoiceDimensionAccountCode:str
        IsOwnEntryCertificateIssued:enum:NoYes InvoiceAddressStreet:str CampaignId:str
        FormattedDelveryAddress:str Email:str BaseDocumentLineNumber:int32!
        BaseDocumentType:enum:DocumentTypeIt DefaultShippingSiteId:str
        TransportationBrokerId:str TransportationModeId:str DeliveryAddressDescription:str
        CFPSCode:str IsInvoiceAddressPrivate:enum:NoYes IsSalesProcessingStopped:enum:NoYes
        ShippingCarrierCustomerAccountNumber:str TMACustomerGroupId:str BankSpecificSymbol:str
        SalesOrderStatus:enum:SalesStatus NumberSequenceGroupId:str InvoiceAddressLatitude:dec!
        SalesOrderOriginCode:str CustomerPaymentFinancialInterestCode:str
        TransportationTemplateId:str InvoiceAddressStreetInKana:str BankConstantSymbol:str
        OrderTotalTaxAmount:dec! IsOneTimeCustomer:enum:NoYes SalesOrderPoolId:str
        DeliveryAddressCountryRegionId:str DeliveryAddressLatitude:dec!
        TotalDiscountCustomerGroupCode:str DeliveryAddressCity:str
        SalesRebateCustomerGroupId:str ThirdPartySalesDigitalPlatformCNPJ:str
        SalesOrderPromisingMethod:enum:SalesDeliveryDateControlType ProjectId:str
        ShippingCarrierId:str TotalDiscountPercentage:dec! DeliveryAddressDistrictName:str
        DeliveryAddressCountyId:str ConfirmedReceiptDate:dto! BaseDocumentItemNumber:str
        DeliveryAddressZipCode:str FiscalOperationPresenceType:enum:EfDocPresenceTypeBr
        QuotationNumber:str IsConsolidatedInvoiceTarget:enum:NoYes LanguageId:str
        DeliveryAddressDunsNumber:str MultilineDiscountCustomerGroupCode:str
        FulfillmentPolicyName:str BaseDocumentNumber:str InvoiceAddressStateId:str
        CustomerPaymentMethodSpecificationName:str ServiceFiscalInformationCode:str
        CommissionCustomerGroupId:str DeliveryAddressName:str InvoiceAddressCountryRegionId:str
        PaymentTermsBaseDate:dto! CreditNoteReasonCode:str DeliveryAddressStreetNumber:str
        DeliveryAddressStreetInKana:str ChargeCustomerGroupId:str InvoiceAddressStreetNumber:str
        IsDeliveryAddressPrivate:enum:NoYes TaxExemptNumber:str AreTotalsCalculated:enum:NoYes
        TotalDiscountAmount:dec! OrderTotalAmount:dec! CustomersOrderReference:str
        FormattedInvoiceAddress:str ExportReason:str OrderResponsiblePersonnelNumber:str
        DeliveryAddressCountryRegionISOCode:str CashDiscountCode:str OrderOrAgreementCode:str
        InvoiceAddressCountryRegionISOCode:str PaymentScheduleName:str
        IntrastatTransactionCode:str URL:str CurrencyCode:str OrderTotalDiscountAmount:dec!
        InvoiceType:enum:InvoiceTypeMy OrderCreationDateTime:dto!
        ArePricesIncludingSalesTax:enum:NoYes InvoiceCustomerAccountNumber:str
        DeliveryAddressLocationId:str CommissionSalesRepresentativeGroupId:str
        CustomerTransactionSettlementType:enum:SettlementType InvoiceAddressCityInKana:str
        WillAutomaticInventoryReservationConsiderBatchAttributes:enum:NoYes
        IsEInvoiceDimensionAccountCodeSpecifiedPerLine:enum:NoYes
        IntrastatStatisticsProcedureCode:str OverrideSalesTax:enum:NoYes
        DeliveryAddressStreet:str IsExportSale:enum:NoYes DeliveryModeCode:str
        ConfirmedShippingDate:dto! FullRunCTPStatus:enum:MpsFullRunCtpStatus FixedDueDate:dto!
        TransportationDocumentLineId:guid! SalesTaxGroupCode:str
        IsDeliveryAddressOrderSpecific:enum:NoYes CustomerRequisitionNumber:str
        InvoiceAddressLongitude:dec! InvoiceAddressCity:str IsFinalUser:enum:NoYes
        InvoiceAddressPostBox:str ShippingCarrierServiceGroupId:str ContactPersonId:str
        EUSalesListCode:enum:Listcode InvoiceAddressDistrictName:str
        ThirdPartySalesDigitalPlatform:enum:NoYes PaymentTermsName:str
        DeliveryAddressCityInKana:str BaseDocumentDate:dto! CustomerPostingProfileId:str
        DeliveryAddressLongitude:dec! TenderCode:str InvoiceAddressZipCode:str
        DeliveryTermsCode:str ShippingCarrierServiceId:str
        DefaultLedgerDimensionDisplayValue:str DeliveryAddressTimeZone:enum:Timezone
        SalesOrderName:str DefaultShippingWarehouseId:str IsEntryCertificateRequired:enum:NoYes
        DeliveryAddressStateId:str DeliveryBuildingCompliment:str IntrastatTransportModeCode:str
        InvoicePaymentAttachmentType:enum:PaymentStub DeliveryAddressPostBox:str
        InvoiceAddressTimeZone:enum:Timezone InvoiceAddressCountyId:str DirectDebitMandateId:str
        LineDiscountCustomerGroupCode:str IntrastatPortId:str CIPEcode:str
        OrderingCustomerAccountNumber:str CustomerPaymentFineCode:str
        InvoiceBuildingCompliment:str PriceCustomerGroupCode:str DeliveryReasonCode:str
        ReportingCurrencyFixedExchangeRate:dec! IsServiceDeliveryAddressBased:enum:NoYes
        OrderHeaderTaxAmount:dec! InventoryReservationMethod:enum:ItemReservation
        RequestedShippingDate:dto! SalesOrderProcessingStatus:enum:SalesOrderProcessingStatus
        TransportationRoutePlanId:str SkipCreateAutoCharges:enum:NoYes
        CustomerPaymentMethodName:str SalesUnitId:str FixedExchangeRate:dec!
        SubBillCreatedFromSubscriptionBilling:enum:NoYes RevRecReallocationId:str
        RevRecFollowOriginalPricingMethod:enum:NoYes RevRecMultipleSOReallocation:enum:NoYes
        RevRecContractEndDate:dto! RevRecLatestReverseJournal:int64!
        RevRecContractStartDate:dto! SkipGlobalUnifiedPricingCalculation:enum:NoYes
        """,
    ),
    "SalesOrderLines": (
        "dataAreaId InventoryLotId",
        """
        dataAreaId:str! InventoryLotId:str! ExternalItemNumber:str CustomerRequisitionNumber:str
        IsSoftReservedExternally:enum:NoYes DeliverySalesTaxGroupCode:str
        InventoryServiceAdjustmentOffsetDatasource:str
        RetailCalculatedManualLineDiscountPercentage:dec! SalesOrderLineStatus:enum:SalesStatus
        IntrastatPortId:str CustomsDocumentDate:dto! SkipCreateAutoCharges:enum:NoYes
        InventoryReservationMethod:enum:ItemReservation IntrastatTransportModeCode:str
        DeliverySalesTaxItemGroupCode:str GiftCardBuyerEmail:str CFOPCode:str
        CustomsDocumentName:str LineDiscountAmount:dec! DeliveryAddressCountryRegionId:str
        PlanningPriority:dec! RetailCalculatedLineDiscountPercentage:dec! ProductStyleId:str
        ServiceOrderNumber:str LineNumber:dec! SuframaDiscountPercentage:dec!
        DeliveryAddressCountyId:str DeliveryAddressLocationId:str
        DefaultLedgerDimensionDisplayValue:str DeliveryAddressCountryRegionISOCode:str
        ProductColorId:str RouteId:str DeliveryAddressDescription:str
        DeliveryAddressLongitude:dec! AllowedOverdeliveryPercentage:dec!
        LineDiscountPercentage:dec! InventoryServiceAdjustmentOffsetPhysicalMeasure:str
        RetailCalculatedPeriodicDiscountAmount:dec! FixedPriceCharges:dec!
        MultilineDiscountAmount:dec! RetailCalculatedTenderDiscountAmount:dec!
        InventoryServiceReservationId:str IntrastatSpecialMovementCode:str
        RequestedReceiptDate:dto! ConfirmedReceiptDate:dto! CustomsDocumentNumber:str
        EInvoiceDimensionAccountCode:str ItemBatchNumber:str BOMId:str CreditNoteReasonCode:str
        GiftCardRecipientEmail:str ShippingWarehouseLocationId:str SalesPrice:dec!
        Catalog:int64! IntrastatStatisticsProcedureCode:str IntrastatCommodityCode:str
        ProductVersionId:str SalesOrderNumber:str GiftCardRecipientName:str
        IsDeliveryAddressPrivate:enum:NoYes DeliveryAddressCity:str
        WillRebateCalculationExcludeLine:enum:NoYes RetailCalculatedLineDiscountAmount:dec!
        DeliveryAddressStreet:str
        WillAutomaticInventoryReservationConsiderBatchAttributes:enum:NoYes
        SalesTaxGroupCode:str ItemWithholdingTaxCodeGroupCode:str LineAmount:dec!
        ProductSizeId:str ServiceFiscalInformationCode:str DeliveryAddressStateId:str
        CommissionSalesRepresentativeGroupId:str OrderedCatchWeightQuantity:dec!
        DeliveryAddressStreetInKana:str IsPriceLocked:enum:NoYes
        MultilineDiscountPercentage:dec! LineDescription:str SalesRebateProductGroupId:str
        LineCreationSequenceNumber:int32! SalesDeliverNow:dec! ItemSerialNumber:str
        EInvoicePropertyNumber:str RetailCalculatedTenderDiscountPercentage:dec!
        OrderLineReference:str SalesPriceQuantity:dec! RetailCalculatedTotalDiscountAmount:dec!
        MainAccountIdDisplayValue:str IsIntrastatTriangularDeal:enum:NoYes
        RetailCalculatedManualLineDiscountAmount:dec! ConfirmedShippingDate:dto!
        RetailCalculatedTotalDiscountPercentage:dec! DeliveryAddressDunsNumber:str
        WithholdingTaxGroupCode:str DeliveryAddressDistrictName:str GiftCardNumber:str
        SalesOrderPromisingMethod:enum:SalesDeliveryDateControlType DeliveryModeCode:str
        GiftCardType:enum:McrGiftCardType DeliveryAddressStreetNumber:str
        RetailCalculatedPeriodicDiscountPercentage:dec! ShippingWarehouseId:str
        ProjectCategoryId:str IntrastatStatisticValue:dec! GiftCardBuyerName:str
        SalesProductCategoryName:str CurrencyCode:str IsLineStopped:enum:NoYes
        FormattedDelveryAddress:str DeliveryTermsId:str CustomersLineNumber:int32!
        DeliveryAddressTimeZone:enum:Timezone FullRunCTPStatus:enum:MpsFullRunCtpStatus
        ProductConfigurationId:str FulfillmentStoreId:str NGPCode:int64!
        ExcludeFromMasterPlanning:enum:NoYes SalesUnitSymbol:str
        SalesOrderLineCreationMethod:enum:SalesSalesOrderCreationMethod
        AllowedUnderdeliveryPercentage:dec! CalculateLineAmount:enum:NoYes DeliveryCFOPCode:str
        DeliveryAddressName:str PackingUnitSymbol:str IntrastatTransactionCode:str
        SalesTaxItemGroupCode:str ShippingSiteId:str OrderedSalesQuantity:dec!
        FulfillmentStatus:enum:RetailFulfillmentLineStatus ProjectLinePropertyId:str
        DeliveryAddressZipCode:str DeliveryAddressCityInKana:str DeliveryAddressPostBox:str
        ItemNumber:str GiftCardGiftMessage:str OrderedInventoryStatusId:str
        IsDeliveryAddressOrderSpecific:enum:NoYes RequestedShippingDate:dto!
        DeliveryAddressLatitude:dec! DeliveryBuildingCompliment:str
        DefaultLineNumberFromLineCreationSequenceNumber:enum:NoYes ProjectId:str
        FiscalDocumentTypeId:str OverrideSalesTax:enum:NoYes BundleLineType:enum:BundleLineType
        BundleLineStatus:enum:BundleLineStatus SubBillRevenueSplit:enum:NoYes
        RevRecRevenueScheduleId:str RevRecSalesDeliverNow:dec! RevRecContractEndDate:dto!
        RevRecOccurrences:int32! RevRecContractStartDate:dto!
        """,
    ),
    "SalesInvoiceHeadersV2": (
        "dataAreaId InvoiceNumber InvoiceDate LedgerVoucher",
        """
        dataAreaId:str! InvoiceNumber:str! InvoiceDate:dto! LedgerVoucher:str!
        InvoiceAddressCountryRegionISOCode:str InvoiceAddressZipCode:str TotalTaxAmount:dec!
        InvoiceAddressStreetNumber:str TotalDiscountCustomerGroupCode:dec!
        InvoiceAddressStreet:str TotalChargeAmount:dec! TotalDiscountAmount:dec!
        CurrencyCode:str SalesOrderNumber:str DeliveryTermsCode:str ContactPersonId:str
        SalesOrderResponsiblePersonnelNumber:str PaymentTermsName:str DeliveryModeCode:str
        InvoiceCustomerAccountNumber:str InvoiceAddressCity:str InvoiceHeaderTaxAmount:dec!
        InvoiceAddressState:str InvoiceAddressCountryRegionId:str CustomersOrderReference:str
        TotalInvoiceAmount:dec! SalesOrderOriginCode:str
        """,
    ),
    "SalesInvoiceHeaders": (
        "dataAreaId InvoiceNumber InvoiceDate",
        """
        dataAreaId:str! InvoiceNumber:str! InvoiceDate:dto!
        InvoiceAddressCountryRegionISOCode:str InvoiceAddressZipCode:str TotalTaxAmount:dec!
        InvoiceAddressStreetNumber:str TotalDiscountCustomerGroupCode:dec!
        InvoiceAddressStreet:str TotalChargeAmount:dec! TotalDiscountAmount:dec!
        CurrencyCode:str SalesOrderNumber:str DeliveryTermsCode:str ContactPersonId:str
        SalesOrderResponsiblePersonnelNumber:str PaymentTermsName:str DeliveryModeCode:str
        InvoiceCustomerAccountNumber:str InvoiceAddressCity:str InvoiceHeaderTaxAmount:dec!
        InvoiceAddressState:str InvoiceAddressCountryRegionId:str CustomersOrderReference:str
        TotalInvoiceAmount:dec! SalesOrderOriginCode:str
        """,
    ),
    "SalesInvoiceLines": (
        "dataAreaId InvoiceNumber LineCreationSequenceNumber InvoiceDate",
        """
        dataAreaId:str! InvoiceNumber:str! LineCreationSequenceNumber:int32! InvoiceDate:dto!
        DimensionNumber:str InventorySiteId:str ItemBatchNumber:str LineTotalDiscountAmount:dec!
        ProductConfigurationId:str LineTotalTaxAmount:dec! OrderedInventoryStatusId:str
        ProductSizeId:str CurrencyCode:str ProductNumber:str ProductColorId:str
        ProductVersionId:str ProductStyleId:str ConfirmedShippingDate:dto! SalesPrice:dec!
        InventoryWarehouseId:str SalesUnitSymbol:str LineTotalChargeAmount:dec!
        ProductDescription:str InvoicedQuantity:dec! LineAmount:dec! ProductName:str
        """,
    ),
}
