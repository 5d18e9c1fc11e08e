## The coordinates of work item `item` in a grid of (image, row, column, channel group), channel
## group fastest: item = ((b * rows + row) * columns + column) * cg + g. Declares cg (the channel
## groups per pixel), g, b, and the variables named by line (item / cg), rest (line / columns),
## column and row.
## Parameters: item, line, rest, column, row (variable names); columns, rows (their counts).
let cg = params.channel_groups;
let {{line}} = {{item}} / cg;
let g = {{item}} - {{line}} * cg;
let {{rest}} = {{line}} / {{columns}};
let {{column}} = {{line}} - {{rest}} * {{columns}};
let b = {{rest}} / {{rows}};
let {{row}} = {{rest}} - b * {{rows}};
