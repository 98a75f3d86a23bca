"""Statistical-QoS UAV ISAC over Rician fading (effective capacity); see ``model`` and ``env``."""
