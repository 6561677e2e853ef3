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
    #[inline(always)]
    fn push(&mut self, item: T) {
        (self.0)(item);
    }
}

/// Most operators one memoised layer may have (a decoder layer has at most 19).
const MEMO_CAPACITY: usize = 24;

/// The timed operators of the last layer priced, so that following identical layers (same
/// token count, no pruning work) add the same values in the same order without being priced
/// again: the baseline's layers are all alike, and a schedule keeps runs of equal layers.
/// A layer's operators depend only on its token count, whether it routes its MLP through
/// experts (a mixture-of-experts model's dense and routed layers differ) and the run's
/// settings: the key is `(tokens, routed)`.
pub struct LayerMemo<T> {
    key: Option<(u64, bool)>,
    ops: [Option<T>; MEMO_CAPACITY],
    len: usize,
}

impl<T: Clone> Default for LayerMemo<T> {
    fn default() -> Self {
        LayerMemo {
            key: None,
            ops: std::array::from_fn(|_| None),
            len: 0,
        }
    }
}

impl<T: Clone> LayerMemo<T> {
    /// Whether the recorded layer had `tokens` tokens and routed as given (and may be reused).
    pub fn holds(&self, tokens: u64, routed: bool) -> bool {
        self.key == Some((tokens, routed))
    }

    /// The recorded operators, in the order they were priced.
    pub fn ops(&self) -> impl Iterator<Item = &T> {
        self.ops[..self.len].iter().flatten()
    }

    /// Starts recording a layer of `(tokens, routed)`; `None`: this layer is not to be reused.
    pub fn start(&mut self, key: Option<(u64, bool)>) {
        self.key = key;
        self.len = 0;
    }

    /// Records one operator of the layer being priced (beyond the capacity, the layer is
    /// simply not reused).
    pub fn record(&mut self, op: &T) {
        if self.key.is_none() {
            return;
        }
        if self.len == MEMO_CAPACITY {
            self.key = None;
            return;
        }
        self.ops[self.len] = Some(op.clone());
        self.len += 1;
    }
}
