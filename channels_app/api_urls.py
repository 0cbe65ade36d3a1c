from channels_app.api_views import ChannelViewSet, SubscriptionViewSet
from videohost.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("channels", ChannelViewSet, basename="api-channel")
router.register("subscriptions", SubscriptionViewSet, basename="api-subscription")

urlpatterns = router.urls
