//! The `faults!` macro: from the registry's table of `module::FaultType => Variant` lines it
//! declares each fault's module and re-exports its type, and writes
//! [`FaultAction`](super::FaultAction) with its dispatch to the [`Fault`](super::Fault) trait,
//! the list of every fault's YAML key, and the reading and checking of a rule's action key
//! ([`RawAction`](super::RawAction)) and options ([`RawOptions`](super::RawOptions)).

macro_rules! faults {
    ($($module:ident :: $fault:ident => $variant:ident),+ $(,)?) => {
        $(
            pub mod $module;
            pub use $module::$fault;
        )+

        /// One fault's checked action, as a chain holds it.
        #[derive(Debug, Clone, PartialEq)]
        pub enum FaultAction {
            $($variant($fault)),+
        }

        impl FaultAction {
            /// The decision for one request; stream faults say [`Decision::Stream`].
            pub fn on_request(&self, request: &RequestView<'_>, rng: &mut StdRng) -> Decision {
                match self { $(FaultAction::$variant(fault) => fault.on_request(request, rng)),+ }
            }

            /// This action as it applies to one request's answer ([`Fault::for_request`]).
            pub fn for_request(&self, rng: &mut StdRng) -> FaultAction {
                match self { $(FaultAction::$variant(fault) => FaultAction::$variant(fault.for_request(rng))),+ }
            }

            /// What happens to one event of the response stream.
            pub fn on_event(&self, event: &SseEvent<'_>) -> EventAction {
                match self { $(FaultAction::$variant(fault) => fault.on_event(event)),+ }
            }

            /// How long the stream stays open after its last event.
            pub fn on_end(&self) -> Duration {
                match self { $(FaultAction::$variant(fault) => fault.on_end()),+ }
            }

            /// A short label for records and reports, such as `status:429` or `stall`.
            pub fn label(&self) -> String {
                match self { $(FaultAction::$variant(fault) => fault.label()),+ }
            }

            /// Whether deciding needs the request body read (a limiter counts its tokens).
            pub fn needs_body(&self) -> bool {
                match self { $(FaultAction::$variant(fault) => fault.needs_body()),+ }
            }

            /// This action at `speed` ([`Fault::at_speed`]).
            pub fn at_speed(&self, speed: Speed) -> FaultAction {
                match self { $(FaultAction::$variant(fault) => FaultAction::$variant(fault.at_speed(speed))),+ }
            }
        }

        /// Every fault's YAML key, in the table's order.
        pub const NAMES: &[&str] = &[$(<$fault as Fault>::NAME),+];

        /// Every fault's example, in the table's order.
        pub const EXAMPLES: &[&str] = &[$(<$fault as Fault>::EXAMPLE),+];

        /// The option keys of every fault, in the table's order.
        pub const OPTION_KEYS: &[&[&str]] = &[$(<$fault as Fault>::OPTION_KEYS),+];

        /// The JSON Schema of each key a rule may have for a fault: its action key (described
        /// by its example) and its options, in the table's order.
        pub fn fault_key_schemas(
            generator: &mut schemars::SchemaGenerator,
        ) -> Vec<(String, serde_json::Value)> {
            let mut keys = Vec::new();
            $(
                let mut action = generator.subschema_for::<<$fault as Fault>::Raw>().to_value();
                if let Some(object) = action.as_object_mut() {
                    let example = <$fault as Fault>::EXAMPLE.replace('`', "");
                    object.insert("description".into(), format!("e.g. {example}").into());
                }
                keys.push((<$fault as Fault>::NAME.to_owned(), action));
                let options =
                    <<$fault as Fault>::Options as schemars::JsonSchema>::json_schema(generator).to_value();
                if let Some(properties) = options.get("properties").and_then(serde_json::Value::as_object) {
                    keys.extend(properties.iter().map(|(key, schema)| (key.clone(), schema.clone())));
                }
            )+
            keys
        }

        /// One action key's value as written, before its checks.
        #[derive(Debug)]
        pub enum RawAction {
            $($variant(Spanned<<$fault as Fault>::Raw>)),+
        }

        impl RawAction {
            /// Reads the value of the action key `name` (one of [`NAMES`]); `None` for a null
            /// value, which counts as the key left out.
            pub fn read<'de, A: MapAccess<'de>>(name: &str, map: &mut A) -> Result<Option<RawAction>, A::Error> {
                $(if name == <$fault as Fault>::NAME {
                    let value: Option<_> = map.next_value()?;
                    return Ok(value.map(RawAction::$variant));
                })+
                Err(serde::de::Error::custom(format!("`{name}` is not a fault")))
            }

            /// The key it was written under.
            pub fn name(&self) -> &'static str {
                match self { $(RawAction::$variant(_) => <$fault as Fault>::NAME),+ }
            }

            /// The checked action.
            pub fn check(&self, options: &RawOptions, context: &FaultContext) -> Checked<FaultAction> {
                match self {
                    $(RawAction::$variant(raw) => {
                        Ok(FaultAction::$variant(<$fault>::check(raw, &options.$variant, context)?))
                    }),+
                }
            }
        }

        /// Every fault's options as written (most are empty).
        #[derive(Debug, Default)]
        #[allow(non_snake_case)]
        pub struct RawOptions {
            $(pub $variant: <$fault as Fault>::Options),+
        }

        impl RawOptions {
            /// Reads the value of option `key` of the fault named `owner`.
            pub fn read<'de, A: MapAccess<'de>>(
                &mut self,
                owner: &str,
                key: &str,
                map: &mut A,
            ) -> Result<(), A::Error> {
                $(if owner == <$fault as Fault>::NAME {
                    return <$fault>::read_option(key, map, &mut self.$variant);
                })+
                Err(serde::de::Error::custom(format!("`{key}` is not an option")))
            }

            /// Each option given: the fault it belongs to, its key, and where its value is.
            pub fn given(&self) -> Vec<(&'static str, &'static str, Location)> {
                let mut given = Vec::new();
                $(for (key, at) in <$fault>::options_given(&self.$variant) {
                    given.push((<$fault as Fault>::NAME, key, at));
                })+
                given
            }
        }
    };
}
