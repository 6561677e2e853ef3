//! Where a cost model's builders put what they build: a `Vec` when every operator is kept (the
//! detailed report), or [`Each`], a closure that prices and sums each item as it comes, so a
//! totals-only pass (a sweep row) builds no per-operator list at all.

/// Receives items one at a time, in the order they are built.
pub trait Sink<T> {
    fn push(&mut self, item: T);

    fn push_all(&mut self, items: impl IntoIterator<Item = T>) {
        for item in items {
            self.push(item);
        }
    }
}

impl<T> Sink<T> for Vec<T> {
    fn push(&mut self, item: T) {
        Vec::push(self, item);
    }
}

/// A closure as a sink: called once per item.
pub struct Each<F>(pub F);

impl<T, F: FnMut(T)> Sink<T> for Each<F> {
    fn push(&mut self, item: T) {
        (self.0)(item);
    }
}
