## The kept entries of the general kernels' selection network (select_window.wgsl) and how a window
## cell is offered to them. Parameter payload: what an entry carries besides its key: value (the
## forward kernel: the value itself) or cell (the backward ranks pass: the window cell).
//[payload == value] A kept entry: sort key and value.
//[payload == cell] A kept entry: sort key and window cell (+ PADDED for a padded one).
struct Ranked {
  key: Keys,
#if payload == value
  value: Values,
#else
  cell: Cells,
#endif
}

//[payload == value] Kept entry r after cell `e` was offered: unchanged where e does not rank before it, the entry
//[payload == value] of rank r - 1 (`above`, still the old one) where e ranks before that too, else e itself.
//[payload == cell] Kept entry r after cell `e` was offered (see sort_pool2d_general_forward*.wgsl: e comes from
//[payload == cell] a later cell than every kept entry, so it goes in only before strictly lower keys).
fn offer(current: Ranked, above: Ranked, e: Ranked) -> Ranked {
  let here = e.key > current.key;
  let shift = e.key > above.key;
  return Ranked(
    select(current.key, select(e.key, above.key, shift), here),
    select(current.{{payload}}, select(e.{{payload}}, above.{{payload}}, shift), here),
  );
}

// Rank 0 after cell `e` was offered.
fn offer_first(current: Ranked, e: Ranked) -> Ranked {
  let here = e.key > current.key;
  return Ranked(select(current.key, e.key, here), select(current.{{payload}}, e.{{payload}}, here));
}
