//! Marker-based pages and the streams that follow them.

use std::future::Future;

use futures::Stream;
use serde::de::DeserializeOwned;

use crate::Error;
use crate::{
    DocGenJob, DocGenJobFull, DocGenJobs, DocGenJobsFull, DocGenTag, DocGenTags, DocGenTemplate, DocGenTemplates,
    WebhookMini, Webhooks,
};

/// Box's largest page.
pub(crate) const MAX_LIMIT: u32 = 1000;

/// Checks a page size: Box takes 1 to 1000.
pub(crate) fn check_limit(limit: Option<u32>) -> Result<Option<i64>, Error> {
    match limit {
        Some(limit) if !(1..=MAX_LIMIT).contains(&limit) => {
            Err(Error::invalid_input("limit", format!("{limit} is not between 1 and {MAX_LIMIT}")))
        }
        limit => Ok(limit.map(i64::from)),
    }
}

/// A page of a listing: its entries and the marker of the next page.
pub(crate) trait Page: DeserializeOwned + Send + 'static {
    type Item: Send + 'static;
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

macro_rules! page {
    ($($page:ty => $item:ty),* $(,)?) => {$(
        impl Page for $page {
            type Item = $item;
            fn into_parts(self) -> (Vec<$item>, Option<String>) {
                (self.entries, self.next_marker)
            }
        }
    )*};
}

page!(
    DocGenJobs => DocGenJob,
    DocGenJobsFull => DocGenJobFull,
    DocGenTemplates => DocGenTemplate,
    DocGenTags => DocGenTag,
    Webhooks => WebhookMini,
);

/// The items of every page, fetched lazily: `fetch(context, marker)` runs when the previous page's items are
/// used up, with `None` first and then each `next_marker`, until a page has no (or an empty) `next_marker`. One
/// page is held at a time. After an error the stream ends.
///
/// `context` (the client and the owned arguments) is cloned for each page, so each page's future owns what it
/// uses and the stream is `'static`.
pub(crate) fn items<C, P, F, Fut>(context: C, fetch: F) -> impl Stream<Item = Result<P::Item, Error>> + Send + 'static
where
    C: Clone + Send + 'static,
    P: Page,
    F: Fn(C, Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<P, Error>> + Send,
{
    let fetch = move |marker| fetch(context.clone(), marker);
    enum Next {
        First,
        Marker(String),
        Done,
    }
    struct State<F, I> {
        fetch: F,
        next: Next,
        items: std::vec::IntoIter<I>,
    }
    let state = State { fetch, next: Next::First, items: Vec::new().into_iter() };
    futures::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(item) = state.items.next() {
                return Some((Ok(item), state));
            }
            let marker = match std::mem::replace(&mut state.next, Next::Done) {
                Next::Done => return None,
                Next::First => None,
                Next::Marker(marker) => Some(marker),
            };
            // Free the spent page before fetching the next, so at most one page is held.
            state.items = Vec::new().into_iter();
            match (state.fetch)(marker).await {
                Ok(page) => {
                    let (items, next) = page.into_parts();
                    state.items = items.into_iter();
                    state.next = match next {
                        Some(marker) if !marker.is_empty() => Next::Marker(marker),
                        _ => Next::Done,
                    };
                }
                Err(error) => return Some((Err(error), state)),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_1_to_1000_are_input_errors() {
        assert_eq!(check_limit(None).ok(), Some(None));
        assert_eq!(check_limit(Some(1)).ok(), Some(Some(1)));
        assert_eq!(check_limit(Some(1000)).ok(), Some(Some(1000)));
        for bad in [0, 1001, u32::MAX] {
            assert!(matches!(check_limit(Some(bad)), Err(Error::InvalidInput(input)) if input.argument == "limit"));
        }
    }
}
