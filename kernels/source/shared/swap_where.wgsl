## swap_where: the branch-free swap of two slots under a lane mask, the step every compare-exchange
## of the 2x2 kernels' sorting network (src/spec.ts SORTING_NETWORK) ends with. The compare rules
## themselves (which slots swap) differ by kernel and stay there: forward.wgsl's exchange compares
## floats (NaN moved up by is_nan), backward.wgsl's exchange_ordered / exchange compare integer keys
## and break ties by cell.
## Parameter entry: what a slot holds: Values (forward.wgsl: the value itself) or Entry
## (backward.wgsl: key, value and window cell). Needs the alias Lanes.
//[entry == Values] Swaps the values of slots a and b in the lanes where `swap` holds (branch-free).
//[entry == Entry] Swaps the entries of slots a and b in the lanes where `swap` holds (branch-free).
fn swap_where(a: ptr<function, {{entry}}>, b: ptr<function, {{entry}}>, swap: Lanes) {
  let first = *a;
  let second = *b;
#if entry == Values
  *a = select(first, second, swap);
  *b = select(second, first, swap);
#else
  *a = Entry(
    select(first.key, second.key, swap),
    select(first.value, second.value, swap),
    select(first.cell, second.cell, swap),
  );
  *b = Entry(
    select(second.key, first.key, swap),
    select(second.value, first.value, swap),
    select(second.cell, first.cell, swap),
  );
#endif
}
