//! Device kinds for push notifications.

string_enum! {
    /// The platform of a user's device.
    pub enum DeviceType {
        Ios => "ios",
        Android => "android",
        Web => "web",
    }
}

string_enum! {
    /// Which Apple device, for `ios` devices (absent, i.e. `None`, otherwise).
    pub enum DeviceSubType {
        Iphone => "iphone",
        Ipad => "ipad",
        Ipod => "ipod",
    }
}

#[cfg(test)]
mod tests {
    use super::super::DomainError;
    use super::*;

    #[test]
    fn device_types_round_trip() {
        assert_eq!(DeviceType::ALL, ["ios", "android", "web"]);
        for (kind, name) in DeviceType::VARIANTS.iter().zip(DeviceType::ALL) {
            assert_eq!(DeviceType::parse(name), Ok(*kind));
            assert_eq!(kind.to_string(), *name);
            assert_eq!(
                serde_json::to_string(kind).expect("serializes"),
                format!("\"{name}\"")
            );
        }
        assert_eq!(
            DeviceType::parse("iOS"),
            Err(DomainError::new("must be one of: ios, android, web"))
        );
    }

    #[test]
    fn device_sub_types_round_trip() {
        assert_eq!(DeviceSubType::ALL, ["iphone", "ipad", "ipod"]);
        for (kind, name) in DeviceSubType::VARIANTS.iter().zip(DeviceSubType::ALL) {
            assert_eq!(DeviceSubType::parse(name), Ok(*kind));
            assert_eq!(kind.as_str(), *name);
        }
        assert_eq!(
            DeviceSubType::parse("iPhone"),
            Err(DomainError::new("must be one of: iphone, ipad, ipod"))
        );
        assert!(DeviceSubType::parse("android").is_err());
    }
}
