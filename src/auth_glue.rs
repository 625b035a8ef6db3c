//! The engine's [`AuthResolver`] over [`qcode_auth::Resolver`], which decides the method, its
//! credentials and model (qcode-auth cannot implement the engine's trait itself).

use futures::future::BoxFuture;
use qcode_core::{AuthResolver, ResolvedAuth};
use qcode_protocol::{AuthKind, Problem};

/// [`qcode_auth::Resolver`] as the engine's [`AuthResolver`].
pub struct Resolver(pub qcode_auth::Resolver);

impl AuthResolver for Resolver {
    fn resolve(&self, kind: AuthKind) -> BoxFuture<'_, Result<ResolvedAuth, Problem>> {
        // Re-read the snapshot's stores: the user may have just signed in or saved a key.
        let result = self.0.activate(kind).map(|a| ResolvedAuth {
            kind: a.kind,
            credentials: a.credentials,
            model: Some(a.model),
        });
        Box::pin(async move { result })
    }
}
