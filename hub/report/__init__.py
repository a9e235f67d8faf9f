"""The customer progress report (``pmhub report``), made from the state store alone.

Rooms: ``items`` reads linked issues and their history; ``figures`` computes every figure (its
docstring holds the rules, health included); ``build`` picks the customer or project; ``data``
is the JSON; ``charts`` draws the SVG charts; ``render`` fills the templates (HTML, PDF, Markdown);
``i18n`` and ``words`` hold the report's own words per language; ``publish`` sends it to the CRM.
"""
