# One image for the four apps; APP chooses which one runs.
FROM node:20-slim
WORKDIR /srv
COPY package.json package-lock.json ./
COPY apps ./apps
COPY libs ./libs
COPY tsconfig.base.json tsconfig.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm install --no-save tsx
ENV NODE_ENV=production APP=ingest-api
USER node
CMD ["sh", "-c", "exec node --import tsx apps/$APP/src/main.ts"]
