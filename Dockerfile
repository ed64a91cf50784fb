# The app and the worker share one image; docker-compose.yml runs it twice.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
COPY package.json package-lock.json ./
# Dev dependencies too: the build needs them (Tailwind, TypeScript).
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && chown -R node:node /app
# After the build: production mode for everything that runs (no demo data, secrets required).
ENV NODE_ENV=production
USER node
EXPOSE 3000
CMD ["npm", "start"]
