"""The collections notes entity (UNCERTAIN names; see :mod:`payledger.sandbox.d365.collections`)."""

NOTES = "CustomerCollectionsNotes"

COLLECTIONS_ENTITY_PROPERTIES: dict[str, tuple[str, str]] = {
    NOTES: (
        "dataAreaId NoteId",
        """
        dataAreaId:str! NoteId:str! CustomerAccount:str NoteDateTime:dto! Subject:str Note:str
        Reference:str
        """,
    ),
}
