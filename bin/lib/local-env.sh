# Shared by bin/parley-local and bin/parley-token.
# Development only, documented in README.md so local clients can sign tokens. Never deploy it:
# production nodes refuse to start without their own CHAT_JWT_SECRET.
export CHAT_JWT_SECRET="${CHAT_JWT_SECRET:-parley-local-development-secret-do-not-deploy}"
