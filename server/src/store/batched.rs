//! Point reads of one kind, many at a time.
//!
//! Some reads are made for nearly every connection: a token's revocation
//! at every handshake and request, a chat's last `seq` at every guest's
//! greeting and every `subscribe`. One query each is cheap alone, but when
//! a node restarts tens of thousands of clients come back within a
//! second, and a query each meant as many waits for a pooled connection
//! and wake-ups of its worker: about 30% of the server's time in a storm
//! of 18,000 sockets.
//!
//! So callers of one kind of read queue here, and one task reads whatever
//! is waiting in one query, with at most a few queries at once. While a
//! query runs the next callers gather, and go together in the next. A
//! lone caller still gets a query of its own at once; it pays one hop
//! through a channel. A batch's query starts after each of its callers
//! asked, so its answer is as fresh as a query of their own.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};

use super::StoreError;

/// Most keys one query reads.
pub const BATCH: usize = 512;

/// Callers that may wait for the reading task before `get` itself waits.
const QUEUE: usize = 4096;

type Answer<V> = Result<Option<V>, StoreError>;
type Request<K, V> = (K, oneshot::Sender<Answer<V>>);

/// Reads the rows of the keys in `keys` that exist, in one query.
pub trait ReadBatch<K, V>: Send + Sync + 'static {
    fn read(&self, keys: Vec<K>) -> impl Future<Output = Result<Vec<(K, V)>, StoreError>> + Send;
}

/// A handle to one kind of read's task; cheap to clone. The task ends
/// once every handle is gone.
#[derive(Debug)]
pub struct Batched<K, V> {
    requests: mpsc::Sender<Request<K, V>>,
}

impl<K, V> Clone for Batched<K, V> {
    fn clone(&self) -> Self {
        Batched {
            requests: self.requests.clone(),
        }
    }
}

impl<K, V> Batched<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    /// Starts the task, with at most `at_once` queries running together.
    pub fn start<R: ReadBatch<K, V>>(reader: R, at_once: usize) -> Self {
        let (requests, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(run(Arc::new(reader), waiting, at_once.max(1)));
        Batched { requests }
    }

    /// The row of `key`, or `None` when there is none.
    pub async fn get(&self, key: K) -> Answer<V> {
        let (answer, answered) = oneshot::channel();
        self.requests
            .send((key, answer))
            .await
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

async fn run<K, V, R>(reader: Arc<R>, mut waiting: mpsc::Receiver<Request<K, V>>, at_once: usize)
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
    R: ReadBatch<K, V>,
{
    let slots = Arc::new(Semaphore::new(at_once));
    while let Some((key, answer)) = waiting.recv().await {
        // Taken before gathering: while every slot is busy, callers pile
        // up and the next query takes them all.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut batch: HashMap<K, Vec<oneshot::Sender<Answer<V>>>> = HashMap::new();
        batch.entry(key).or_default().push(answer);
        let mut gathered = 1;
        while gathered < BATCH
            && let Ok((key, answer)) = waiting.try_recv()
        {
            batch.entry(key).or_default().push(answer);
            gathered += 1;
        }
        let reader = reader.clone();
        tokio::spawn(async move {
            let keys = batch.keys().cloned().collect();
            let read = reader.read(keys).await;
            drop(slot);
            answer_all(batch, read);
        });
    }
}

/// Answers every caller of a batch from its one read: a key the read did
/// not return has no row.
fn answer_all<K: Eq + Hash, V: Clone>(
    batch: HashMap<K, Vec<oneshot::Sender<Answer<V>>>>,
    read: Result<Vec<(K, V)>, StoreError>,
) {
    match read {
        Ok(found) => {
            let found: HashMap<K, V> = found.into_iter().collect();
            for (key, answers) in batch {
                let row = found.get(&key);
                for answer in answers {
                    let _ = answer.send(Ok(row.cloned()));
                }
            }
        }
        Err(error) => {
            for answer in batch.into_values().flatten() {
                let _ = answer.send(Err(error.shared()));
            }
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Unexpected(anyhow::anyhow!("a batched reader has stopped"))
}

impl StoreError {
    /// The same failure for another caller of one shared read: whether
    /// retrying later is safe stays, the rest is told as text.
    fn shared(&self) -> StoreError {
        match self {
            StoreError::Unavailable => StoreError::Unavailable,
            other => StoreError::Unexpected(anyhow::anyhow!("{other:#}")),
        }
    }
}

/// Pads `keys` to the next of `sizes` up, repeating its last key, so that
/// a statement built for its length is one of a few the cache keeps.
pub fn pad_to_statement_size<K: Clone>(keys: &mut Vec<K>, sizes: &[usize]) {
    let size = sizes
        .iter()
        .copied()
        .find(|&size| size >= keys.len())
        .unwrap_or(keys.len());
    if let Some(last) = keys.last().cloned() {
        keys.resize(size, last);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use uuid::Uuid;

    use super::*;

    /// Knows chats 1..=n at seq 10 × n, records each query's size, and
    /// takes its time so that callers pile up.
    struct Counting {
        known: u128,
        queries: Arc<Mutex<Vec<usize>>>,
        fail: bool,
    }

    impl ReadBatch<Uuid, i64> for Counting {
        async fn read(&self, chats: Vec<Uuid>) -> Result<Vec<(Uuid, i64)>, StoreError> {
            self.queries.lock().unwrap().push(chats.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
            if self.fail {
                return Err(StoreError::Unavailable);
            }
            Ok(chats
                .into_iter()
                .filter(|chat| chat.as_u128() <= self.known)
                .map(|chat| (chat, 10 * chat.as_u128() as i64))
                .collect())
        }
    }

    fn reader(known: u128, fail: bool) -> (Batched<Uuid, i64>, Arc<Mutex<Vec<usize>>>) {
        let queries = Arc::new(Mutex::new(Vec::new()));
        let reader = Counting {
            known,
            queries: queries.clone(),
            fail,
        };
        (Batched::start(reader, 2), queries)
    }

    #[tokio::test]
    async fn callers_arriving_together_share_queries_and_each_gets_its_own_chat() {
        let (batched, queries) = reader(1000, false);
        let calls = (1..=1200u128).map(|n| {
            let batched = batched.clone();
            // Chats above 1000 do not exist; chat 7 is asked for twice.
            let chat = if n == 1200 { 7 } else { n };
            tokio::spawn(async move { (chat, batched.get(Uuid::from_u128(chat)).await) })
        });
        let answers = futures_util::future::join_all(calls).await;
        for answer in answers {
            let (chat, seq) = answer.unwrap();
            let expected = (chat <= 1000).then(|| 10 * chat as i64);
            assert_eq!(seq.unwrap(), expected, "chat {chat}");
        }
        let queries = queries.lock().unwrap();
        assert!(
            queries.len() <= 8,
            "1,200 callers took {} queries",
            queries.len()
        );
        assert!(queries.iter().all(|&size| size <= BATCH));
    }

    #[tokio::test]
    async fn a_lone_caller_gets_a_query_of_its_own() {
        let (batched, queries) = reader(5, false);
        assert_eq!(batched.get(Uuid::from_u128(3)).await.unwrap(), Some(30));
        assert_eq!(batched.get(Uuid::from_u128(9)).await.unwrap(), None);
        assert_eq!(*queries.lock().unwrap(), vec![1, 1]);
    }

    #[tokio::test]
    async fn a_failed_query_fails_every_caller_in_it_and_keeps_whether_to_retry() {
        let (batched, _) = reader(5, true);
        let calls = (1..=3u128).map(|n| {
            let batched = batched.clone();
            tokio::spawn(async move { batched.get(Uuid::from_u128(n)).await })
        });
        for answer in futures_util::future::join_all(calls).await {
            assert!(matches!(answer.unwrap(), Err(StoreError::Unavailable)));
        }
    }
}

#[cfg(test)]
mod padding {
    use super::*;

    #[test]
    fn keys_pad_to_the_next_size_with_their_last() {
        let mut keys = vec![1, 2, 3];
        pad_to_statement_size(&mut keys, &[1, 4, 16]);
        assert_eq!(keys, vec![1, 2, 3, 3]);
        let mut keys = vec![1];
        pad_to_statement_size(&mut keys, &[1, 4, 16]);
        assert_eq!(keys, vec![1]);
        let mut keys: Vec<i32> = (0..20).collect();
        pad_to_statement_size(&mut keys, &[1, 4, 16]);
        assert_eq!(keys.len(), 20);
    }
}
