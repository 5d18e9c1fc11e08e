## The selection network of the general kernels: ranks one KH x KW window's cells (SPEC.md §4,
## §3) and keeps its K best entries t0 .. t15, rank 0 first. Each cell is offered to the kept
## entries in cell order; it goes in before every entry whose key is strictly lower, so equal
## keys keep the earlier cell first. The entries are named variables, not an array, so that a
## pipeline keeps only its K of them in registers (`K > r` is a pipeline constant).
## Needs: Ranked and offer (ranked.wgsl), sort_key, x, params, EXCLUDED_KEY, and in scope b, top,
## left, g and padded_key.
## Parameters: payload (value or cell, as in ranked.wgsl), row (the name of the input row's
## variable), groups (the expression for params.channel_groups).
// The K best entries so far, rank 0 first, in named registers (t0 .. t15; the `K > r` tests
//[payload == value] are pipeline constants, so a pipeline keeps only its K of them). Not yet filled: EXCLUDED_KEY.
//[payload == cell] are pipeline constants, so a pipeline keeps only its K of them).
#if payload == value
let empty = Ranked(Keys(EXCLUDED_KEY), Values(0.0));
#else
let empty = Ranked(Keys(EXCLUDED_KEY), Cells(0u));
#endif
var t0 = empty; var t1 = empty; var t2 = empty; var t3 = empty;
var t4 = empty; var t5 = empty; var t6 = empty; var t7 = empty;
var t8 = empty; var t9 = empty; var t10 = empty; var t11 = empty;
var t12 = empty; var t13 = empty; var t14 = empty; var t15 = empty;
## The forward kernel's text has a blank line here.
#if payload == value

#endif
for (var dr = 0u; dr < KH; dr++) {
  let {{row}} = top + i32(dr);
  let row_inside = {{row}} >= 0 && {{row}} < i32(params.height);
  let row_start = (b * params.height + u32({{row}})) * params.width;
  for (var dc = 0u; dc < KW; dc++) {
    let col = left + i32(dc);
    let inside = row_inside && col >= 0 && col < i32(params.width);
    // Branch-free: a padded cell reads element 0 and discards it.
    let index = select(0u, (row_start + u32(col)) * {{groups}} + g, inside);
    let value = select(Values(0.0), x[params.x_base + index], inside);
#if payload == value
    let e = Ranked(select(padded_key, sort_key(value), inside), value);
#else
    let e = Ranked(select(padded_key, sort_key(value), inside), Cells(dr * KW + dc + select(PADDED, 0u, inside)));
#endif
    //[payload == value] From the last rank up, so that entry r - 1 is still the old one when entry r takes it.
    if (K > 15u) { t15 = offer(t15, t14, e); }
    if (K > 14u) { t14 = offer(t14, t13, e); }
    if (K > 13u) { t13 = offer(t13, t12, e); }
    if (K > 12u) { t12 = offer(t12, t11, e); }
    if (K > 11u) { t11 = offer(t11, t10, e); }
    if (K > 10u) { t10 = offer(t10, t9, e); }
    if (K > 9u) { t9 = offer(t9, t8, e); }
    if (K > 8u) { t8 = offer(t8, t7, e); }
    if (K > 7u) { t7 = offer(t7, t6, e); }
    if (K > 6u) { t6 = offer(t6, t5, e); }
    if (K > 5u) { t5 = offer(t5, t4, e); }
    if (K > 4u) { t4 = offer(t4, t3, e); }
    if (K > 3u) { t3 = offer(t3, t2, e); }
    if (K > 2u) { t2 = offer(t2, t1, e); }
    if (K > 1u) { t1 = offer(t1, t0, e); }
    t0 = offer_first(t0, e);
  }
}
