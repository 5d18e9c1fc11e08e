## The coordinates of work item `item` in a grid of (image, row, column, channel group), channel
## group fastest: item = ((b * rows + row) * columns + column) * groups + g. Declares g, b, and the
## variables named by line (item / groups), rest (line / columns), column and row; with groups=cg,
## also cg (the channel groups per pixel) first.
## Parameters: groups (cg: declare cg = params.channel_groups and divide by it; else the
## expression to divide by, declaring nothing), item, line, rest, column, row (variable names);
## columns, rows (their counts).
#if groups == cg
let cg = params.channel_groups;
#endif
let {{line}} = {{item}} / {{groups}};
let g = {{item}} - {{line}} * {{groups}};
#include "shared/split_position.wgsl"
