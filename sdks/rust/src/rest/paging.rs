//! Pagination as a `Stream`, so nobody writes the cursor loop.

use std::collections::VecDeque;
use std::future::Future;

use futures_util::Stream;
use futures_util::stream;

use crate::Error;

/// Items of every page, in order: `fetch` gets a page for a query and
/// answers its items and the next cursor; `set_cursor` puts that cursor in
/// the query. The stream ends after the page whose cursor is `None`, or
/// after the first error.
pub(crate) fn cursor_stream<Q, T, F, Fut>(
    query: Q,
    fetch: F,
    set_cursor: fn(&mut Q, String),
) -> impl Stream<Item = Result<T, Error>> + Send + 'static
where
    Q: Send + 'static,
    T: Send + 'static,
    F: Fn(Q) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), Error>> + Send,
    Q: Clone,
{
    struct State<Q, T, F> {
        next: Option<Q>,
        buffered: VecDeque<T>,
        fetch: F,
    }
    let state = State {
        next: Some(query),
        buffered: VecDeque::new(),
        fetch,
    };
    stream::unfold(state, move |mut state| async move {
        loop {
            if let Some(item) = state.buffered.pop_front() {
                return Some((Ok(item), state));
            }
            let query = state.next.take()?;
            match (state.fetch)(query.clone()).await {
                Err(error) => return Some((Err(error), state)),
                Ok((items, cursor)) => {
                    state.buffered.extend(items);
                    state.next = cursor.map(|cursor| {
                        let mut query = query;
                        set_cursor(&mut query, cursor);
                        query
                    });
                }
            }
        }
    })
}
