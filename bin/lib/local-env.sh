# Shared by bin/parley-local and bin/parley-token.
# Development only, documented in README.md so local clients can sign tokens. Never deploy it:
# production nodes refuse to start without their own CHAT_JWT_SECRET.
export CHAT_JWT_SECRET="${CHAT_JWT_SECRET:-parley-local-development-secret-do-not-deploy}"
# The demo page signs in through POST /dev/token, which lets anyone be anyone: local runs only
# (it is off unless set; see src/main/resources/demo.conf).
export PARLEY_DEV_TOKENS="${PARLEY_DEV_TOKENS:-on}"
