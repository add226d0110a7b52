# OPTIMUM BCP: one static binary serving the API, the websockets and the web app.
# Build: docker build -t optimum-bcp .   Run: docker run -p 8080:8080 -v optimum-data:/data optimum-bcp

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/optimum ./cmd/optimum \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/optimum /usr/local/bin/optimum
COPY --from=build --chown=nonroot:nonroot /out/data /data
COPY configs/optimum.example.yaml /etc/optimum/optimum.yaml
ENV OPTIMUM_ADDR=:8080 \
    OPTIMUM_DATA=/data \
    OPTIMUM_CONFIG=/etc/optimum/optimum.yaml
USER nonroot:nonroot
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/optimum", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/optimum"]
CMD ["serve"]
