"""The notes library (issue 14): the note list of Home and of a collection page, with
pagination, sorting, filters, saved searches and bulk actions on selected notes.

Forms check the query string and the bulk form's shape; `selectors` reads one page of notes;
`services` writes (saved searches, bulk actions), always scoped to the user.
"""
