//! The engine's [`AuthResolver`] over [`qcode_auth::Resolver`], which decides the method, its
//! credentials and model (qcode-auth cannot implement the engine's trait itself).

use futures::future::BoxFuture;
use qcode_core::{AuthResolver, ResolvedAuth};
use qcode_protocol::{AuthKind, ErrorKind};

/// [`qcode_auth::Resolver`] as the engine's [`AuthResolver`].
pub struct Resolver(pub qcode_auth::Resolver);

impl AuthResolver for Resolver {
    fn resolve(
        &self,
        kind: AuthKind,
    ) -> BoxFuture<'_, Result<ResolvedAuth, (ErrorKind, String, Option<String>)>> {
        let result = self
            .0
            .activate(kind)
            .map(|a| ResolvedAuth {
                kind: a.kind,
                credentials: a.credentials,
                model: Some(a.model),
            })
            .map_err(|p| (p.kind, p.message, p.hint));
        Box::pin(async move { result })
    }
}
