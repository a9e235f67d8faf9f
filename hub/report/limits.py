"""How much of each list the documents show.

Rows per list in the HTML, PDF and Markdown (per milestone for the open work): a report a customer
reads, not an export, and one a browser and WeasyPrint lay out quickly for 5,000 issues. The JSON
has every item; a longer list ends with how many more there are.
"""

LIST_LIMIT = 25
GROUP_LIMIT = 10
