//! Request bodies: each one a type its handler reads and the OpenAPI document describes (its
//! `ToSchema` derive), so that the two cannot drift apart. A body is read field by field with
//! [`Fields`](super::Fields), not deserialized, so that one 400 names every field's problem in
//! the contract's words and a field the endpoint does not know is refused; each body's `FIELDS`
//! are the names its reader accepts, and a test keeps them equal to its schema's properties.

mod accounts;
mod attendance;
mod events;
pub mod values;
mod webhooks;

pub use accounts::{LogIn, PatchUser, ProfileEdit, Refresh, ReplaceUser, SignUp};
pub use attendance::{CheckInBody, NewFeedback, TeamRoleBody};
pub use events::{NewEvent, PatchEvent, Recurrence, ReplaceEvent};
pub use webhooks::CreateWebhook;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::ToSchema;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;

    use super::*;

    /// The property names of `T`'s schema, and whether it refuses any other.
    fn properties<T: ToSchema>() -> (BTreeSet<String>, bool) {
        let RefOr::T(Schema::Object(object)) = T::schema() else { panic!("{} is not an object", T::name()) };
        let closed = matches!(
            object.additional_properties.as_deref(),
            Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false))
        );
        (object.properties.keys().cloned().collect(), closed)
    }

    fn assert_described<T: ToSchema>(fields: &[&str]) {
        let (described, closed) = properties::<T>();
        let read: BTreeSet<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        assert_eq!(
            described,
            read,
            "{}: the schema's properties are the fields its reader accepts",
            T::name()
        );
        assert!(closed, "{}: the schema refuses other properties, as the reader does", T::name());
    }

    #[test]
    fn every_body_describes_exactly_the_fields_its_reader_accepts() {
        assert_described::<SignUp>(SignUp::FIELDS);
        assert_described::<LogIn>(LogIn::FIELDS);
        assert_described::<Refresh>(Refresh::FIELDS);
        assert_described::<ReplaceUser>(ReplaceUser::FIELDS);
        assert_described::<PatchUser>(PatchUser::FIELDS);
        assert_described::<NewFeedback>(NewFeedback::FIELDS);
        assert_described::<TeamRoleBody>(TeamRoleBody::FIELDS);
        assert_described::<CheckInBody>(CheckInBody::FIELDS);
        assert_described::<CreateWebhook>(CreateWebhook::FIELDS);
        assert_described::<NewEvent>(NewEvent::FIELDS);
        assert_described::<ReplaceEvent>(ReplaceEvent::FIELDS);
        assert_described::<PatchEvent>(PatchEvent::FIELDS);
        assert_described::<Recurrence>(Recurrence::FIELDS);
    }
}
