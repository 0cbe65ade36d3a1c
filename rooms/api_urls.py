from rooms.api_views import InvitationViewSet, RoomViewSet
from videohost.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("rooms", RoomViewSet, basename="api-room")
router.register("invitations", InvitationViewSet, basename="api-invitation")

urlpatterns = router.urls
