## The image and grid coordinates of a position index in a B x rows x columns grid, row-major:
## line = (b * rows + row) * columns + column. Declares b and the variables named by rest
## (line / columns), column and row.
## Parameters: line (the index's variable), rest, column, row (variable names); columns, rows
## (their counts).
let {{rest}} = {{line}} / {{columns}};
let {{column}} = {{line}} - {{rest}} * {{columns}};
let b = {{rest}} / {{rows}};
let {{row}} = {{rest}} - b * {{rows}};
