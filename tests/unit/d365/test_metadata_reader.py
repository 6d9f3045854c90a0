"""The $metadata reader on a hand-written CSDL (including facets F&O does not publish)."""

from __future__ import annotations

import pytest

from payledger.adapters.d365 import parse_metadata

CSDL = """<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
 <edmx:DataServices>
  <Schema Namespace="Microsoft.Dynamics.DataEntities" xmlns="http://docs.oasis-open.org/odata/ns/edm">
   <EntityType Name="CustomerGroup">
    <Key><PropertyRef Name="dataAreaId"/><PropertyRef Name="CustomerGroupId"/></Key>
    <Property Name="dataAreaId" Type="Edm.String" Nullable="false" MaxLength="4"/>
    <Property Name="CustomerGroupId" Type="Edm.String" Nullable="false" MaxLength="10">
     <Annotation Term="Microsoft.Dynamics.OData.Core.V1.IsRequired" Bool="true"/>
    </Property>
    <Property Name="PaymentTermId" Type="Edm.String"/>
    <Property Name="ClearingPeriod" Type="Edm.Decimal" Precision="32" Scale="6" Nullable="false"/>
    <Property Name="IsSalesTaxIncludedInPrice" Type="Microsoft.Dynamics.DataEntities.NoYes"/>
   </EntityType>
   <EnumType Name="NoYes"><Member Name="No" Value="0"/><Member Name="Yes" Value="1"/></EnumType>
   <EntityContainer Name="Resources">
    <EntitySet Name="CustomerGroups" EntityType="Microsoft.Dynamics.DataEntities.CustomerGroup"/>
   </EntityContainer>
  </Schema>
 </edmx:DataServices>
</edmx:Edmx>"""


def test_reader_gives_keys_types_lengths_and_enums():
    metadata = parse_metadata(CSDL)
    groups = metadata.entity_set("CustomerGroups")

    assert groups.keys == ("dataAreaId", "CustomerGroupId")
    assert groups.property("CustomerGroupId").max_length == 10
    assert groups.property("CustomerGroupId").required
    assert groups.property("PaymentTermId").nullable
    assert groups.property("ClearingPeriod").precision == 32
    assert groups.property("ClearingPeriod").scale == 6
    assert groups.property("IsSalesTaxIncludedInPrice").enum_members == ("No", "Yes")
    assert metadata.enums["Microsoft.Dynamics.DataEntities.NoYes"] == ("No", "Yes")


def test_unknown_names_say_what_is_missing():
    metadata = parse_metadata(CSDL)

    with pytest.raises(KeyError, match="CustomersV9"):
        metadata.entity_set("CustomersV9")
    with pytest.raises(KeyError, match="Name"):
        metadata.entity_set("CustomerGroups").property("Name")
