"""The customer progress report (``pmhub report``), made from the state store alone.

Rooms: ``items`` reads linked issues and their history (``hub.state.history``); ``figures``
computes every figure (its docstring holds the rules, health included); ``build`` picks the
customer or project; ``urls`` says where each item lives in each tool; ``data`` is the JSON;
``charts`` draws the SVG charts; ``render`` fills the HTML template and makes the PDF;
``markdown`` writes the Markdown; ``limits`` caps the lists; ``i18n`` and ``words`` hold the
report's own words per language; ``publish`` sends it to the CRM; ``notes`` is the brief summary
for a flow's automatic progress notes.
"""
